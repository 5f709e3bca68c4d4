package client

import (
	"net/url"
	"strconv"
)

// maxPageSize is the largest page the API serves.
const maxPageSize = 200

// Pagination tells where a page sits in a list.
type Pagination struct {
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}

// setPage adds limit and offset to q when they are set.
func setPage(q url.Values, limit, offset int) {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
}
