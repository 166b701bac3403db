// Package web serves Doorman's pages: the building manager's console, the
// resident's page, the courier's page, the transparency page and the
// operator's pages. Pages are rendered on the server with html/template
// from templates embedded in the binary; every page works without
// JavaScript. Small scripts of our own add to them — static/app.js live
// updates over Server-Sent Events, static/courier.js the camera scanner
// where the browser has one — and there is no inline script: the
// Content-Security-Policy forbids it.
//
// Like package http it is a thin adapter over the application services
// (package app): a handler reads the form, makes one service call as the
// signed-in principal and renders the answer or the error, so a page can
// never allow what the API refuses. It resolves the session cookie into a
// principal through the credentials service, protects every state change
// against cross-origin requests (http.CrossOriginProtection), and sets a
// strict Content-Security-Policy on every answer.
//
// It imports the domain, app, auditlog (checkpoint parsing for the
// transparency page), internal/clientaddr and the OTP and QR code
// libraries; it must never import a store, natsbus, access, http or cmd.
package web
