package api_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/apitest"
)

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPICoversEveryRoute fails when a route is added without its
// document entry, or the document describes a route that does not exist.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := apitest.New(t)
	engine, ok := e.Server.Handler.(*gin.Engine)
	if !ok {
		t.Fatalf("handler is %T, want *gin.Engine", e.Server.Handler)
	}
	served := map[string]bool{}
	for _, r := range engine.Routes() {
		served[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range apitest.Document(t).Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	var missing, stale []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes missing from the OpenAPI document:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("documented routes that are not served:\n  %s", strings.Join(stale, "\n  "))
	}
	if len(served) < 8 {
		t.Fatalf("only %d routes served; the router looks empty", len(served))
	}
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	e := apitest.New(t)
	resp := e.Do(t, http.MethodGet, "/api/v1/openapi.json", "", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d", resp.Status)
	}
	doc := resp.Map(t)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
}
