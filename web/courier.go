package web

// courierRoutes registers the courier's page.
func (s *Server) courierRoutes() {}
