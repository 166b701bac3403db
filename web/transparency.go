package web

// transparencyRoutes registers the public transparency page of a building.
func (s *Server) transparencyRoutes() {}
