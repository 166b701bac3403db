package http

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/webhook"
)

// BenchmarkAccessRequestWebhookReceiver measures the courier's access
// request (as BenchmarkAccessRequest) while webhook calls for the building
// are being delivered, side by side: to no receiver (none), to a receiver
// that never answers (hanging: 16 calls held open at all times, each until
// the sender's timeout), and to one that fails at once with 500: paced at
// about 100 attempts a second (failing-paced, far more than the outbox's
// backoff makes), or 4 senders retrying in a tight loop with no backoff at
// all (failing-flood: a stress case; each attempt also writes its delivery
// record, so it competes for the store's writer and the CPU). The unlock only writes its audit
// entry; webhook calls are made by the outbox worker from that entry
// later, so the figures should not differ beyond noise.
func BenchmarkAccessRequestWebhookReceiver(b *testing.B) {
	for _, mode := range []string{"none", "hanging", "failing-paced", "failing-flood"} {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if mode != "none" {
				release := make(chan struct{})
				recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if mode == "hanging" {
						select {
						case <-release:
						case <-r.Context().Done():
						}
						return
					}
					w.WriteHeader(http.StatusInternalServerError)
				}))
				defer recv.Close()
				defer close(release)
				ep := &doorman.WebhookEndpoint{BuildingID: f.buildingA.ID, URL: recv.URL, EventTypes: doorman.WebhookEventTypes,
					Enabled: true, Secret: webhook.NewSecret()}
				if err := f.store.CreateWebhookEndpoint(context.Background(), ep); err != nil {
					b.Fatal(err)
				}
				sender := webhook.NewSender(f.store, &webhook.Guard{AllowLoopback: true}, 2*time.Second, nil, nil)
				senders, pause := 4, time.Duration(0)
				switch mode {
				case "hanging":
					senders = 16
				case "failing-paced":
					senders, pause = 1, 10*time.Millisecond
				}
				for range senders {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							select {
							case <-stop:
								return
							default:
							}
							m := &doorman.Message{ID: doorman.NewID("msg"), Channel: doorman.ChannelWebhook, Target: ep.ID,
								Kind: doorman.WebhookAccessGranted, Payload: []byte(`{"type":"access.granted"}`)}
							ctx, cancel := context.WithCancel(context.Background())
							go func() {
								select {
								case <-stop:
								case <-ctx.Done():
								}
								cancel()
							}()
							_ = sender.Send(ctx, m)
							cancel()
							time.Sleep(pause)
						}
					}()
				}
				time.Sleep(100 * time.Millisecond) // let the calls start
			}
			r := request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
				Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := f.do(r); res.Status != 200 {
					b.Fatal(res.Status)
				}
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
		})
	}
}
