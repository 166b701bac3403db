package web

// consoleBuildingRoutes registers the manager's building pages: overview, units and residents, doors, carriers and hours, account.
func (s *Server) consoleBuildingRoutes() {}
