# A server is imported by its id (GET /api/v1/vps lists them). Its private
# key is not imported: set ssh_private_key_wo and ssh_private_key_wo_version
# (or ssh_private_key) in the configuration, and the next apply sends it.
terraform import chom_vps.web 0b7e3a52-6f1d-4c8e-9a2b-3d4f5e6a7b8c
