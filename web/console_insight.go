package web

// consoleInsightRoutes registers the manager's activity, audit log and charts.
func (s *Server) consoleInsightRoutes() {}
