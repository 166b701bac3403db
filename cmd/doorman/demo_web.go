package main

// webURL is a page the demo prints, with how to get in.
type webURL struct {
	Who, URL, How string
}

// webURLs are the pages the demo prints: one line each.
func (d *Demo) webURLs() []webURL {
	base := d.Main.URL()
	return []webURL{
		{"console", base + "/console", "sign in as " + d.State.ManagerEmail + ", password " + DemoManagerPassword},
		{"console: doors (live status, enrollment, lockdown)", base + "/console/buildings/" + d.State.BuildingID + "/doors", "same sign-in"},
	}
}
