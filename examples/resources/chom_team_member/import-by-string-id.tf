import {
  to = chom_team_member.ops
  id = "6f1c2a9e-4b7d-4f3a-9c2e-8d5b1a7e3f40"
}
