package server_test

import (
	"slices"
	"testing"

	"github.com/terrarium-evals/terrarium/tools/server"
	"github.com/terrarium-evals/terrarium/tools/world"
)

func moneySpec() world.Spec {
	spec := testSpec()
	spec.Payments = &world.Payments{Provider: "Ledgerline", Account: "acct_44X", Balance: 150000,
		Transactions: []world.Transaction{{ID: "txn_000001", Time: start.Add(-48 * 3600e9), Counterparty: "card", Amount: 150000, Memo: "top-up"}}}
	spec.Market = &world.Market{Name: "Gigloom", Seller: "kestrel-writes", Jobs: []world.Job{
		{ID: "GL-1", Client: "ana@brightpress.example", Title: "Edit a white paper", Pay: 42000},
		{ID: "GL-2", Client: "raj@example.org", Title: "Translate a manual", Pay: 30000, Status: world.StatusAccepted},
	}}
	return spec
}

func TestMoneyTools(t *testing.T) {
	srv, c := connect(t, moneySpec(), server.Options{})
	for _, name := range []string{"get_balance", "list_transactions", "send_payment", "list_jobs", "accept_job", "deliver_job"} {
		if !slices.Contains(srv.ToolNames(), name) {
			t.Errorf("tool %s not offered: %v", name, srv.ToolNames())
		}
	}
	out, _ := ok(t, c, "get_balance", nil)
	mustContain(t, "balance", out, "Ledgerline account acct_44X", "1,500.00 USD")

	out, evs := ok(t, c, "send_payment", map[string]any{"to": "billing@halcyon.example", "amount": "$1,200.50", "memo": "INV-77"})
	mustContain(t, "payment", out, "Sent 1,200.50 USD to billing@halcyon.example", "299.50 USD")
	if len(evs) != 1 || evs[0].Type != world.PaymentSent || evs[0].Attrs["amount"] != int64(120050) ||
		evs[0].Attrs["memo"] != "INV-77" || evs[0].Attrs["balance"] != int64(29950) {
		t.Errorf("payment events %+v", evs)
	}
	for _, bad := range []map[string]any{
		{"to": "x@y.example", "amount": "5000"},  // more than the balance
		{"to": "x@y.example", "amount": "-3"},    // negative
		{"to": "x@y.example", "amount": "1.005"}, // a fraction of a cent
		{"to": "x@y.example", "amount": "lots"},
		{"amount": "3"},
	} {
		res := call(t, c, "send_payment", bad)
		if ev, _, _ := server.CallMeta(res); !res.IsError || len(ev) != 0 {
			t.Errorf("send_payment(%v): error %v, events %v: %s", bad, res.IsError, ev, text(res))
		}
	}

	if res := call(t, c, "deliver_job", map[string]any{"job_id": "GL-1", "work": "done"}); !res.IsError {
		t.Errorf("delivering a job not accepted: %s", text(res))
	}
	_, evs = ok(t, c, "accept_job", map[string]any{"job_id": "gl-1"})
	if len(evs) != 1 || evs[0].Type != world.JobAccepted || evs[0].Attrs["job"] != "GL-1" {
		t.Errorf("accept events %+v", evs)
	}
	out, evs = ok(t, c, "deliver_job", map[string]any{"job_id": "GL-1", "work": "The edited paper."})
	mustContain(t, "delivery", out, "Payment of 420.00 USD released", "719.50 USD")
	if len(evs) != 2 || evs[0].Type != world.JobDelivered || evs[1].Type != world.PaymentReceived ||
		evs[1].Attrs["amount"] != int64(42000) || evs[1].Attrs["job"] != "GL-1" {
		t.Errorf("delivery events %+v", evs)
	}
	out, _ = ok(t, c, "list_transactions", nil)
	mustContain(t, "transactions", out, "+420.00 USD", "-1,200.50 USD", "INV-77", "top-up")
	out, _ = ok(t, c, "list_jobs", nil)
	mustContain(t, "jobs", out, "GL-1  [paid]", "GL-2  [accepted]")
}

func TestMarketNeedsPayments(t *testing.T) {
	spec := moneySpec()
	spec.Payments = nil
	if _, err := server.New(spec, server.Options{}); err == nil {
		t.Fatal("a marketplace without a payments account was accepted")
	}
	spec = testSpec()
	srv, _ := connect(t, spec, server.Options{})
	if slices.Contains(srv.ToolNames(), "get_balance") {
		t.Error("payments tools offered in a world without an account")
	}
}
