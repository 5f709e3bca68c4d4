// Package openapi assembles the API's OpenAPI 3 document from one YAML
// fragment per resource (paths and component schemas), so each resource's
// contract sits beside nothing else and the whole is served as JSON.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var fragments embed.FS

var (
	once   sync.Once
	merged []byte
	errDoc error
)

// JSON returns the merged document.
func JSON() ([]byte, error) {
	once.Do(func() { merged, errDoc = build() })
	return merged, errDoc
}

func build() ([]byte, error) {
	names, err := fs.Glob(fragments, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	sort.Strings(names)
	doc := map[string]any{}
	for _, name := range names {
		raw, err := fragments.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("openapi %s: %w", name, err)
		}
		var frag map[string]any
		if err := yaml.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("openapi %s: %w", name, err)
		}
		if err := mergeInto(doc, frag, name); err != nil {
			return nil, err
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out, nil
}

// mergeInto adds src's maps to dst recursively; the same leaf defined twice
// is an error, so two fragments cannot silently disagree.
func mergeInto(dst, src map[string]any, origin string) error {
	for k, v := range src {
		existing, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		em, ok1 := existing.(map[string]any)
		vm, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("openapi %s: %q is defined twice", origin, k)
		}
		if err := mergeInto(em, vm, origin); err != nil {
			return err
		}
	}
	return nil
}
