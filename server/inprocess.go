package server

import (
	"github.com/gofiber/fiber/v2"

	"portal/live"
	"portal/store"
)

// What the benchmark measures of the portals it runs in its own process
// through New and Run; the binary needs none of it.

// Store is the database the server opened.
func (s *Server) Store() store.Backend { return s.store }

// Hub is the live-updates hub, nil with Config.NoLive.
func (s *Server) Hub() *live.Hub { return s.hub }

// App is the HTTP app Run serves.
func (s *Server) App() *fiber.App { return s.app }

// Flushes is how many of the flush loop's flushes so far wrote last-active
// times (not those that found nothing to write).
func (s *Server) Flushes() int64 { return s.flushes.Load() }
