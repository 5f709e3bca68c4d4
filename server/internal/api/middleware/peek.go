package middleware

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/gin-gonic/gin"
)

// peekEmail reads the e-mail from a JSON body without consuming it.
func peekEmail(c *gin.Context) string {
	body, err := peekBody(c)
	if err != nil {
		return ""
	}
	var v struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Email
}

// peekBody reads the whole body and puts it back for the handler.
func peekBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(c.Request.Body)
	c.Request.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errorReader{err}))
	return body, err
}

type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
