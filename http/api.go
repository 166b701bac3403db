package http

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// API document facts.
const (
	apiTitle   = "Doorman API"
	apiVersion = "1.0.0"
	// schemeBearer names the security scheme of every bearer token.
	schemeBearer = "bearer"
)

// Body size limits.
const (
	// maxBody is the default limit of a request body.
	maxBody = 1 << 20
	// maxManifestBody fits MaxManifestBatch generous items.
	maxManifestBody = 4 << 20
)

// Tags group operations in the document.
const (
	tagSession   = "Session"
	tagCarriers  = "Carriers"
	tagBuildings = "Buildings"
	tagUnits     = "Units"
	tagResidents = "Residents"
	tagDoors     = "Doors"
	tagDevices   = "Devices"
	tagCouriers  = "Couriers"
	tagParcels   = "Parcels"
	tagCourier   = "Courier"
	tagAudit     = "Audit"
	tagWebhooks  = "Webhooks"
)

var tagDescriptions = []*huma.Tag{
	{Name: tagSession, Description: "Who am I, manager login and logout, accepting an invitation."},
	{Name: tagCarriers, Description: "Carriers and their API keys (operator)."},
	{Name: tagBuildings, Description: "Buildings, their managers, allowed carriers and parcels."},
	{Name: tagUnits, Description: "Units (flats) of a building, one by one or imported from CSV."},
	{Name: tagResidents, Description: "Residents of a building's units."},
	{Name: tagDoors, Description: "Doors of a building, their settings and lockdown."},
	{Name: tagDevices, Description: "Door devices: one-time enrollment codes, the enrollment the device itself makes, listing and revoking devices."},
	{Name: tagCouriers, Description: "A carrier's couriers and their short-lived sessions."},
	{Name: tagParcels, Description: "A carrier's parcel manifests and parcel status."},
	{Name: tagCourier, Description: "What a courier does at the door: request access, see assigned parcels, mark them delivered."},
	{Name: tagAudit, Description: "The hash-chained audit log, scoped to the caller."},
	{Name: tagWebhooks, Description: "Webhook endpoints of carriers and buildings: signed calls (Standard Webhooks) on access, doors opened, deliveries, pickups and devices; secrets rotated with overlap; recent delivery attempts."},
}

// apiConfig is the huma configuration: OpenAPI 3.1 document facts, no docs
// UI or schema endpoints (the document is served by routes), no $schema
// links in bodies, and unknown query parameters refused.
func apiConfig() huma.Config {
	cfg := huma.DefaultConfig(apiTitle, apiVersion)
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath = "", "", ""
	cfg.CreateHooks = nil
	cfg.RejectUnknownQueryParameters = true
	cfg.Info.Description = "Doorman lets couriers of any carrier into apartment buildings, only while they hold a parcel addressed to the building. " +
		"Errors are RFC 9457 problem documents (application/problem+json) with a Doorman `code` and, where there is one, a stable `reason`. " +
		"Lists are paginated by cursor: pass `next_cursor` back as `cursor` until it is empty. " +
		"Authenticated POSTs honour an `Idempotency-Key` header. " +
		"Any request that writes may answer 503 with reason `storage_full` and `Retry-After` when the server's disk is full: nothing was recorded, ask again later."
	cfg.Info.License = &huma.License{Name: "Apache 2.0", Identifier: "Apache-2.0"}
	cfg.Servers = []*huma.Server{{URL: "http://127.0.0.1:8080",
		Description: "The default address of a local `doorman serve`. The document a server serves names the address it was fetched from instead."}}
	cfg.Tags = tagDescriptions
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		schemeBearer: {
			Type:   "http",
			Scheme: "bearer",
			Description: "An operator token (dmo_…, made by the CLI), a manager session (dms_…, from POST /v1/sessions), " +
				"a carrier API key (dmk_…) or a courier session (dmc_…, minted by the courier's carrier).",
		},
	}
	return cfg
}

// route describes one operation.
type route struct {
	ID      string
	Method  string
	Path    string
	Tag     string
	Summary string
	Doc     string
	// Roles that may call the operation; nil makes it public.
	Roles []string
	// Status is the success status (200 when zero).
	Status int
	// AltStatus are further success statuses the handler may choose
	// through its output's Status field, with the same body as Status.
	// huma documents only Status; generated clients decode only what the
	// document declares.
	AltStatus []int
	// MaxBody is the body limit (maxBody when zero).
	MaxBody int64
	// Errors are statuses the operation may answer besides those derived
	// from the above (401 and 403 for authenticated operations, 404 for
	// those with path parameters, 400, 413 and 415 for those with a body).
	Errors []int
}

// Role sets.
var (
	operatorOnly   = []string{doorman.RoleOperator}
	managers       = []string{doorman.RoleOperator, doorman.RoleManager}
	carrierOnly    = []string{doorman.RoleCarrier}
	carrierOwners  = []string{doorman.RoleOperator, doorman.RoleCarrier}
	courierOnly    = []string{doorman.RoleCourier}
	buildingReader = []string{doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier}
	everyone       = []string{doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier, doorman.RoleCourier}
	sessionHolders = []string{doorman.RoleManager, doorman.RoleCourier, doorman.RoleResident}
	// logReaders may check a building's log: its residents too, as on
	// their pages.
	logReaders = []string{doorman.RoleOperator, doorman.RoleManager, doorman.RoleResident}
)

// register adds an operation whose handler errors all pass through
// Server.problem.
func register[I, O any](s *Server, r route, handler func(context.Context, *I) (*O, error)) {
	op := huma.Operation{
		OperationID:   r.ID,
		Method:        r.Method,
		Path:          r.Path,
		Summary:       r.Summary,
		Description:   r.Doc,
		Tags:          []string{r.Tag},
		DefaultStatus: r.Status,
		MaxBodyBytes:  r.MaxBody,
		Errors:        slices.Clone(r.Errors),
		Metadata:      map[string]any{},
	}
	if op.MaxBodyBytes == 0 {
		op.MaxBodyBytes = maxBody
	}
	if r.Roles != nil {
		op.Metadata[metaRoles] = r.Roles
		op.Security = []map[string][]string{{schemeBearer: {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusForbidden)
	} else {
		op.Security = []map[string][]string{{}}
	}
	if slices.Contains([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, r.Method) {
		op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	if r.Method != http.MethodGet {
		op.Errors = append(op.Errors, http.StatusServiceUnavailable) // storage_full
	}
	if r.Method == http.MethodPost && r.Roles != nil {
		op.Middlewares = huma.Middlewares{s.idempotent}
		op.Errors = append(op.Errors, http.StatusConflict)
	}
	if strings.Contains(r.Path, "{") {
		op.Errors = append(op.Errors, http.StatusNotFound)
	}
	slices.Sort(op.Errors)
	op.Errors = slices.Compact(op.Errors)
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := handler(ctx, in)
		if err != nil {
			return nil, s.problem(ctx, r.ID, err)
		}
		return out, nil
	})
	if len(r.AltStatus) > 0 {
		documentAltStatus(s.api.OpenAPI(), r)
	}
}

// documentAltStatus declares an operation's alternative success statuses
// with the response huma made for its default status.
func documentAltStatus(doc *huma.OpenAPI, r route) {
	item := doc.Paths[r.Path]
	op := map[string]*huma.Operation{
		http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
		http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
	}[r.Method]
	main := op.Responses[strconv.Itoa(op.DefaultStatus)]
	for _, status := range r.AltStatus {
		alt := *main
		alt.Description = http.StatusText(status)
		op.Responses[strconv.Itoa(status)] = &alt
	}
}

// Common inputs and outputs.

// PageParams are the cursor pagination query parameters of every list.
type PageParams struct {
	Cursor string `query:"cursor" maxLength:"128" doc:"The next_cursor of the previous page; empty for the first page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Most items to return."`
}

// page returns the store page the parameters ask for.
func (p PageParams) page() doorman.Page {
	return doorman.Page{After: p.Cursor, Limit: p.Limit}.Normalize()
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T    `json:"items" nullable:"false" doc:"The items of this page."`
	NextCursor string `json:"next_cursor" doc:"Pass as cursor to get the next page; empty on the last page."`
}

// pageOf returns a page output, with an empty (not null) list.
func pageOf[T any](items []T, next string) *output[Page[T]] {
	if items == nil {
		items = []T{}
	}
	return &output[Page[T]]{Body: Page[T]{Items: items, NextCursor: next}}
}

// page maps a service's page onto a page answer.
func page[T any](items []T, next string, err error) (*output[Page[T]], error) {
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

// answer maps a service's answer onto a body answer.
func answer[T any](v T, err error) (*output[T], error) {
	if err != nil {
		return nil, err
	}
	return ok(v), nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// output is a JSON body answer.
type output[T any] struct {
	Body T
}

// ok wraps a body.
func ok[T any](body T) *output[T] { return &output[T]{Body: body} }

// noContent is the answer of operations with status 204.
type noContent struct{}

// IdempotencyHeader documents the Idempotency-Key header; the idempotent
// middleware reads it.
type IdempotencyHeader struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes a retried POST safe: the same key with the same request and the same bearer token replays the first answer; with another request it is refused (422). Keys are kept per token and path."`
}
