// Package doorman is the domain of Doorman: the types every other package
// speaks (buildings, doors, carriers, couriers, parcels, grants, audit
// entries), the interfaces the adapters implement, and the error codes they
// return.
//
// Doorman lets couriers of any carrier into an apartment building's front
// door for about a minute, only while they hold a parcel addressed to that
// building, and keeps a tamper-evident record of every entry.
//
// This package imports no adapter: not sqlite, postgres, natsbus, http or any
// driver. Arrows point inward, to here.
package doorman
