package web

// operatorRoutes registers the operator's pages.
func (s *Server) operatorRoutes() {}
