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
		{"courier", base + "/courier/signin?t=" + d.Tokens["pp-alice"], "pp-alice's sign-in link: the session her carrier minted"},
		{"door", base + "/courier/doors/" + d.State.DoorID, "the front door's courier page, as its QR sticker names it"},
		{"public", base + "/buildings/" + d.State.BuildingID + "/transparency", "Maple Court's transparency page, no sign-in"},
		{"operator", base + "/operator/signin", "paste the operator token printed below"},
	}
}
