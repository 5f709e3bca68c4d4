# A member is imported by its id, as the API lists it
# (GET /api/v1/team/members?email=ops@example.com).
terraform import chom_team_member.ops 6f1c2a9e-4b7d-4f3a-9c2e-8d5b1a7e3f40
