import {
  to = chom_vps.web
  id = "0b7e3a52-6f1d-4c8e-9a2b-3d4f5e6a7b8c"
}
