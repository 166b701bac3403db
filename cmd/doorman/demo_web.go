package main

import "context"

// webURL is a page the demo prints, with how to get in.
type webURL struct {
	Who, URL, How string
}

// webURLs are the pages the demo prints: one line each.
func (d *Demo) webURLs() []webURL {
	base := d.Main.URL()
	return []webURL{
		{"console", base + "/console", "sign in as " + d.State.ManagerEmail + ", password " + DemoManagerPassword},
		{"doors", base + "/console/buildings/" + d.State.BuildingID + "/doors", "live status, enrollment, lockdown; same sign-in"},
		d.residentURL(base),
		{"courier", base + "/courier/signin?t=" + d.Tokens["pp-alice"], "pp-alice's sign-in link: the session her carrier minted"},
		{"door", base + "/courier/doors/" + d.State.DoorID, "the front door's courier page, as its QR sticker names it"},
		{"public", base + "/buildings/" + d.State.BuildingID + "/transparency", "Maple Court's transparency page, no sign-in"},
		{"operator", base + "/operator/signin", "paste the operator token printed below"},
	}
}

// DemoResidentEmail is the seeded resident the demo prints a magic link
// for.
const DemoResidentEmail = "resident1@example.org"

// residentURL is a fresh magic link for the demo's first resident, made
// (and "mailed") by the residents service as Doorman itself.
func (d *Demo) residentURL(base string) webURL {
	link, err := d.Main.App.Residents.CreateLink(systemContext(context.Background()), DemoResidentEmail, base)
	if err != nil {
		return webURL{"resident", base + "/resident/signin", "no magic link: " + err.Error()}
	}
	return webURL{"resident", link, "magic link for " + DemoResidentEmail + ", unit 2B: works once, for 15 minutes"}
}
