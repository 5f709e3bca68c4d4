package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/middleware"
	"github.com/chomhq/chom/server/internal/api/respond"
)

// registerTwoFactorRoutes adds the caller's own second-factor routes. They
// sit under /api/v1/me, which stays reachable when the organization
// requires a second factor the caller has not enrolled yet. Disabling and
// regenerating check a password or code, so they share the per-address
// budget of the sign-in routes on top of the per-token limit.
func (a *API) registerTwoFactorRoutes(r *gin.RouterGroup) {
	secretCheck := middleware.RateLimitByIP(a.Limiter, a.Config.LoginRateLimitPerMinute)
	r.POST("/me/2fa/enroll", a.enrollTOTP)
	r.POST("/me/2fa/confirm", a.confirmTOTP)
	r.POST("/me/2fa/disable", secretCheck, a.disableTOTP)
	r.POST("/me/2fa/recovery-codes", secretCheck, a.regenerateRecoveryCodes)
}

type enrollTOTPRequest struct{}

type totpCodeRequest struct {
	Code string `json:"code"`
}

type disableTOTPRequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

type totpEnrollmentResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (a *API) enrollTOTP(c *gin.Context) {
	// The body is optional; when one is sent it must be an empty object.
	if c.Request.ContentLength != 0 {
		if err := bindJSON(c, &enrollTOTPRequest{}); err != nil {
			respond.Error(c, err)
			return
		}
	}
	e, err := a.Identity.EnrollTOTP(c.Request.Context(), principal(c))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, totpEnrollmentResponse{Secret: e.Secret, OTPAuthURI: e.URI})
}

func (a *API) confirmTOTP(c *gin.Context) {
	var req totpCodeRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	codes, err := a.Identity.ConfirmTOTP(c.Request.Context(), principal(c), req.Code)
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}

func (a *API) disableTOTP(c *gin.Context) {
	var req disableTOTPRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	if err := a.Identity.DisableTOTP(c.Request.Context(), principal(c), req.Password, req.Code); err != nil {
		respond.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) regenerateRecoveryCodes(c *gin.Context) {
	var req totpCodeRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	codes, err := a.Identity.RegenerateRecoveryCodes(c.Request.Context(), principal(c), req.Code)
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
}
