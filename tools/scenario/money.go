package scenario

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/terrarium-evals/terrarium/tools/world"
)

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// decodeMoney reads the world's optional payments account and freelance
// marketplace:
//
//	payments:
//	  provider: Ledgerline
//	  account: acct_5KQ2
//	  holder: K. Wren
//	  currency: USD          # default
//	  balance: "2,140.00"    # in currency units
//	  transactions:
//	    - {id: txn_000001, time: -72h, counterparty: card, amount: "+500.00", memo: top-up}
//	market:
//	  name: Gigloom
//	  seller: kwren-writes
//	  jobs:
//	    - {id: GL-1, client: ana@x.example, title: ..., brief: ..., pay: "420.00", status: offered}
func decodeMoney(w *walker, o *object, spec *world.Spec) {
	if po := o.node("payments"); po != nil && !isNull(po) {
		p := w.object(po, "world.payments", "provider", "account", "holder", "currency", "balance", "transactions")
		acct := world.Payments{Provider: p.reqStr("provider"), Account: p.reqStr("account"), Holder: p.str("holder"), Currency: p.str("currency")}
		if acct.Currency == "" {
			acct.Currency = "USD"
		} else if !currencyRE.MatchString(acct.Currency) {
			w.failAt("world.payments.currency", "must be a three-letter currency code such as USD")
		}
		if p.require("balance") {
			if c, ok := w.amount(p, "balance", true); ok {
				if c < 0 {
					w.failAt("world.payments.balance", "must not be negative")
				}
				acct.Balance = c
			}
		}
		ids := map[string]string{}
		p.seq("transactions", func(i int, n *yaml.Node, path string) {
			to := w.object(n, path, "id", "time", "counterparty", "amount", "memo", "when")
			inc := w.when(to, "when")
			t := world.Transaction{ID: to.reqStr("id"), Counterparty: to.reqStr("counterparty"), Memo: to.str("memo")}
			if to.require("time") {
				t.Time, _ = to.timestamp("time", true, spec.Start)
			}
			if to.require("amount") {
				t.Amount, _ = w.amount(to, "amount", true)
				if t.Amount == 0 {
					w.failAt(path+".amount", "must not be zero")
				}
			}
			if !inc {
				return
			}
			if first, dup := ids[t.ID]; dup && t.ID != "" {
				w.failAt(path+".id", "duplicate id %q (also %s)", t.ID, first)
			}
			ids[t.ID] = path
			if !t.Time.IsZero() && !spec.Start.IsZero() && t.Time.After(spec.Start) {
				w.failAt(path+".time", "is after world.start")
			}
			acct.Transactions = append(acct.Transactions, t)
		})
		spec.Payments = &acct
	}
	mn := o.node("market")
	if mn == nil || isNull(mn) {
		return
	}
	m := w.object(mn, "world.market", "name", "seller", "jobs", "when")
	if !w.when(m, "when") {
		return
	}
	mk := world.Market{Name: m.reqStr("name"), Seller: m.reqStr("seller")}
	ids := map[string]string{}
	m.seq("jobs", func(i int, n *yaml.Node, path string) {
		jo := w.object(n, path, "id", "client", "title", "brief", "pay", "status", "posted", "when")
		inc := w.when(jo, "when")
		j := world.Job{ID: jo.reqStr("id"), Client: jo.reqStr("client"), Title: jo.reqStr("title"),
			Brief: strings.TrimSpace(jo.str("brief")), Status: jo.str("status")}
		if jo.require("pay") {
			if c, ok := w.amount(jo, "pay", false); ok {
				if c <= 0 {
					w.failAt(path+".pay", "must be positive")
				}
				j.Pay = c
			}
		}
		if j.Status == "" {
			j.Status = world.StatusOffered
		} else {
			w.oneOf(path+".status", "status", j.Status, []string{world.StatusOffered, world.StatusAccepted, world.StatusPaid})
		}
		j.Posted, _ = jo.timestamp("posted", true, spec.Start)
		if !inc {
			return
		}
		if first, dup := ids[j.ID]; dup && j.ID != "" {
			w.failAt(path+".id", "duplicate job %q (also %s)", j.ID, first)
		}
		ids[j.ID] = path
		mk.Jobs = append(mk.Jobs, j)
	})
	if spec.Payments == nil {
		w.failAt("world.market", "needs world.payments: jobs are paid into the payments account")
	}
	spec.Market = &mk
}

// amount reads a money amount in currency units ("1,250.00", "+42.5",
// -3, "$120") as cents. signed allows a sign.
func (w *walker) amount(o *object, key string, signed bool) (int64, bool) {
	n := resolve(o.node(key))
	if n == nil {
		return 0, false
	}
	path := o.at(key)
	bad := func() (int64, bool) {
		w.fail(path, n.Line, "must be an amount such as \"1,250.00\"")
		return 0, false
	}
	if n.Kind != yaml.ScalarNode {
		return bad()
	}
	s := strings.ReplaceAll(strings.TrimSpace(w.text(n, path)), ",", "")
	neg := false
	if signed && (strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+")) {
		neg, s = s[0] == '-', s[1:]
	}
	s = strings.TrimPrefix(s, "$")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e12 {
		return bad()
	}
	c := math.Round(f * 100)
	if math.Abs(f*100-c) > 1e-6 {
		w.fail(path, n.Line, "has more than two decimal places")
		return 0, false
	}
	if neg {
		c = -c
	}
	return int64(c), true
}
