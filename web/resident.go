package web

// residentRoutes registers the resident's page, reached by a magic link.
func (s *Server) residentRoutes() {}
