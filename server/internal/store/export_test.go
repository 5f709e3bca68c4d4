package store

import "gorm.io/gorm"

// SiteColumns and GormDB let the external tests hold the hand-written site
// scanner to the model GORM reads.
var SiteColumns = siteColumns

func (s *Store) GormDB() *gorm.DB { return s.db }
