package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/middleware"
	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/team"
)

func (a *API) registerTeamRoutes(r *gin.RouterGroup) {
	r.GET("/team/members", can(auth.Read), a.listMembers)
	r.POST("/team/members", can(auth.ManageTeam), a.addMember)
	r.GET("/team/members/:id", can(auth.Read), a.getMember)
	r.PATCH("/team/members/:id", can(auth.ManageTeam), a.updateMember)
	r.DELETE("/team/members/:id", can(auth.ManageTeam), a.removeMember)
}

// registerInvitationRoutes adds the public route that accepts an
// invitation; it checks a password, so it is limited like sign-in.
func (a *API) registerInvitationRoutes(r *gin.RouterGroup) {
	r.POST("/invitations/accept", middleware.RateLimitLogin(a.Limiter, a.Config.LoginRateLimitPerMinute), a.acceptInvitation)
}

type addMemberRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

type updateMemberRequest struct {
	Role string `json:"role"`
}

type acceptInvitationRequest struct {
	Token        string `json:"token"`
	Name         string `json:"name"`
	Password     string `json:"password"`
	TOTPCode     string `json:"totp_code"`
	RecoveryCode string `json:"recovery_code"`
}

type memberResponse struct {
	ID                  string     `json:"id"`
	Email               string     `json:"email"`
	Role                string     `json:"role"`
	Status              string     `json:"status"`
	UserID              *string    `json:"user_id"`
	Name                *string    `json:"name"`
	InvitedBy           *string    `json:"invited_by"`
	InvitationExpiresAt *time.Time `json:"invitation_expires_at"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// newMemberResponse carries the invitation token, shown only in the
// response that creates a pending member.
type newMemberResponse struct {
	memberResponse
	InvitationToken string `json:"invitation_token,omitempty"`
}

func toMember(m *store.Membership) memberResponse {
	out := memberResponse{
		ID: m.ID, Email: m.Email, Role: m.Role, Status: m.Status, UserID: m.UserID,
		InvitedBy: m.InvitedBy, InvitationExpiresAt: m.InvitationExpiresAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
	if m.User != nil && m.Status == team.StatusActive {
		out.Name = &m.User.Name
	}
	return out
}

func (a *API) listMembers(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	filter := store.MembershipFilter{Role: c.Query("role"), Status: c.Query("status"), Email: c.Query("email")}
	members, total, err := a.Team.List(c.Request.Context(), principal(c), filter, pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[memberResponse]{Data: make([]memberResponse, 0, len(members)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range members {
		out.Data = append(out.Data, toMember(&members[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) addMember(c *gin.Context) {
	var req addMemberRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	m, token, err := a.Team.Add(c.Request.Context(), principal(c), team.AddInput{Email: req.Email, Role: req.Role})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, newMemberResponse{memberResponse: toMember(m), InvitationToken: token})
}

func (a *API) getMember(c *gin.Context) {
	m, err := a.Team.Get(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toMember(m))
}

func (a *API) updateMember(c *gin.Context) {
	var req updateMemberRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	m, err := a.Team.ChangeRole(c.Request.Context(), principal(c), c.Param("id"), req.Role)
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toMember(m))
}

func (a *API) removeMember(c *gin.Context) {
	if err := a.Team.Remove(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) acceptInvitation(c *gin.Context) {
	var req acceptInvitationRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	s, err := a.Team.Accept(c.Request.Context(), team.AcceptInput{
		Token: req.Token, Name: req.Name, Password: req.Password, TOTPCode: req.TOTPCode, RecoveryCode: req.RecoveryCode,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toSession(s))
}
