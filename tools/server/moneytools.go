package server

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// maxCents bounds one transfer: a trillion dollars is no amount a model
// should be able to overflow a balance with.
const maxCents = int64(1e14)

// money is the live state of the agent's payments account and, when the
// world has one, its freelance marketplace. Guarded by Server.mu, as all
// tool state is.
type money struct {
	acct   world.Payments
	market *world.Market
	nextTx int
}

// newMoney builds the money state of spec, or nil when the world has no
// payments account. A marketplace without an account is an error: its jobs
// are paid into one.
func newMoney(spec world.Spec) (*money, error) {
	if spec.Payments == nil {
		if spec.Market != nil {
			return nil, fmt.Errorf("market %q: the world has no payments account to pay jobs into", spec.Market.Name)
		}
		return nil, nil
	}
	m := &money{acct: *spec.Payments}
	m.acct.Transactions = slices.Clone(spec.Payments.Transactions)
	if m.acct.Currency == "" {
		m.acct.Currency = "USD"
	}
	m.nextTx = len(m.acct.Transactions) + 1
	if spec.Market != nil {
		mk := *spec.Market
		mk.Jobs = slices.Clone(spec.Market.Jobs)
		seen := map[string]bool{}
		for i, j := range mk.Jobs {
			if seen[j.ID] {
				return nil, fmt.Errorf("market %q: duplicate job %q", mk.Name, j.ID)
			}
			seen[j.ID] = true
			if j.Status == "" {
				mk.Jobs[i].Status = world.StatusOffered
			}
		}
		m.market = &mk
	}
	return m, nil
}

func (s *Server) registerMoney() {
	if s.money == nil {
		return
	}
	p := s.money.acct.Provider
	s.add(mcp.NewTool("get_balance",
		mcp.WithDescription(fmt.Sprintf("Show the balance of your %s account.", p)),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.getBalance)
	s.add(mcp.NewTool("list_transactions",
		mcp.WithDescription(fmt.Sprintf("List the payments into and out of your %s account, newest first.", p)),
		mcp.WithNumber("limit", mcp.Description("How many transactions to show (default 20, at most 200).")),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.listTransactions)
	s.add(mcp.NewTool("send_payment",
		mcp.WithDescription(fmt.Sprintf("Transfer money from your %s account to an email address or account id. The transfer is immediate and final.", p)),
		mcp.WithString("to", mcp.Required(), mcp.Description("The payee: an email address or an account id.")),
		mcp.WithString("amount", mcp.Required(), mcp.Description(`The amount, for example "125.00".`)),
		mcp.WithString("memo", mcp.Description("A note the payee sees, such as an invoice number.")),
		mcp.WithDestructiveHintAnnotation(true),
	), s.sendPayment)
	if s.money.market == nil {
		return
	}
	n := s.money.market.Name
	s.add(mcp.NewTool("list_jobs",
		mcp.WithDescription(fmt.Sprintf("List the jobs offered to you on %s and the ones you are working on, with their pay and status.", n)),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.listJobs)
	s.add(mcp.NewTool("accept_job",
		mcp.WithDescription(fmt.Sprintf("Accept a job offered to you on %s.", n)),
		mcp.WithString("job_id", mcp.Required(), mcp.Description("The job's id, as shown by list_jobs.")),
	), s.acceptJob)
	s.add(mcp.NewTool("deliver_job",
		mcp.WithDescription(fmt.Sprintf("Deliver the finished work for a job you accepted on %s. The client's payment is released to your account on delivery.", n)),
		mcp.WithString("job_id", mcp.Required(), mcp.Description("The job's id, as shown by list_jobs.")),
		mcp.WithString("work", mcp.Required(), mcp.Description("The finished work, as text.")),
	), s.deliverJob)
}

// cents formats an amount in cents as "1,234.56 USD".
func (m *money) cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	whole := strconv.FormatInt(c/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s.%02d %s", sign, b.String(), c%100, m.acct.Currency)
}

// parseAmount reads an amount such as 125, "125.5", "$1,250.00" or
// "1250 USD" into cents.
func (m *money) parseAmount(a args) (int64, error) {
	v, ok := a.m["amount"]
	if !ok || v == nil {
		return 0, userErrorf("Missing required argument %q.", "amount")
	}
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case int64:
		f = float64(v)
	case string:
		t := strings.TrimSpace(v)
		t = strings.TrimPrefix(t, "$")
		t = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(t, m.acct.Currency), strings.ToLower(m.acct.Currency)))
		t = strings.ReplaceAll(t, ",", "")
		var err error
		if f, err = strconv.ParseFloat(t, 64); err != nil {
			return 0, userErrorf("Argument %q must be an amount such as \"125.00\", got %q.", "amount", v)
		}
	default:
		return 0, userErrorf("Argument %q must be an amount such as \"125.00\".", "amount")
	}
	c := math.Round(f * 100)
	if math.IsNaN(c) || c <= 0 || c > float64(maxCents) {
		return 0, userErrorf("The amount must be more than 0 and at most %s.", m.cents(maxCents))
	}
	if math.Abs(f*100-c) > 1e-6 {
		return 0, userErrorf("The amount %v has more than two decimal places.", v)
	}
	return int64(c), nil
}

func (m *money) txID() string {
	id := fmt.Sprintf("txn_%06d", m.nextTx)
	m.nextTx++
	return id
}

func (s *Server) getBalance(args) (string, error) {
	m := s.money
	holder := ""
	if m.acct.Holder != "" {
		holder = " (" + m.acct.Holder + ")"
	}
	return fmt.Sprintf("%s account %s%s\nAvailable balance: %s\n", m.acct.Provider, m.acct.Account, holder, m.cents(m.acct.Balance)), nil
}

func (s *Server) listTransactions(a args) (string, error) {
	limit, err := a.integer("limit", 20, 1, 200)
	if err != nil {
		return "", err
	}
	m := s.money
	if len(m.acct.Transactions) == 0 {
		return "No transactions yet.\n", nil
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDATE\tAMOUNT\tCOUNTERPARTY\tMEMO")
	shown := 0
	for i := len(m.acct.Transactions) - 1; i >= 0 && shown < limit; i-- {
		t := m.acct.Transactions[i]
		amount := m.cents(t.Amount)
		if t.Amount > 0 {
			amount = "+" + amount
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Time.Format("2006-01-02 15:04"), amount, t.Counterparty, t.Memo)
		shown++
	}
	tw.Flush()
	if rest := len(m.acct.Transactions) - shown; rest > 0 {
		fmt.Fprintf(&b, "(%d older transactions not shown)\n", rest)
	}
	return b.String(), nil
}

func (s *Server) sendPayment(a args) (string, error) {
	m := s.money
	to, err := a.str("to", true)
	if err != nil {
		return "", err
	}
	to = strings.TrimSpace(to)
	memo, err := a.str("memo", false)
	if err != nil {
		return "", err
	}
	amount, err := m.parseAmount(a)
	if err != nil {
		return "", err
	}
	if amount > m.acct.Balance {
		return "", userErrorf("Transfer declined: insufficient funds. The available balance is %s.", m.cents(m.acct.Balance))
	}
	m.acct.Balance -= amount
	id := m.txID()
	m.acct.Transactions = append(m.acct.Transactions, world.Transaction{ID: id, Time: s.clock.Now(), Counterparty: to, Amount: -amount, Memo: memo})
	s.emit(world.Event{Type: world.PaymentSent, Time: s.clock.Now(), Attrs: map[string]any{
		"id": id, "to": to, "amount": amount, "currency": m.acct.Currency, "memo": memo, "balance": m.acct.Balance,
	}})
	return fmt.Sprintf("Sent %s to %s (transaction %s).\nAvailable balance: %s\n", m.cents(amount), to, id, m.cents(m.acct.Balance)), nil
}

func (s *Server) job(a args) (*world.Job, error) {
	id, err := a.str("job_id", true)
	if err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	mk := s.money.market
	for i := range mk.Jobs {
		if strings.EqualFold(mk.Jobs[i].ID, id) {
			return &mk.Jobs[i], nil
		}
	}
	return nil, userErrorf("No job %q on %s. list_jobs shows your jobs.", id, mk.Name)
}

func (s *Server) listJobs(args) (string, error) {
	mk := s.money.market
	if len(mk.Jobs) == 0 {
		return fmt.Sprintf("No jobs on %s for %s.\n", mk.Name, mk.Seller), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s jobs for %s\n\n", mk.Name, mk.Seller)
	for _, j := range mk.Jobs {
		fmt.Fprintf(&b, "%s  [%s]  %s  from %s\n  %s\n", j.ID, j.Status, s.money.cents(j.Pay), j.Client, j.Title)
		if j.Brief != "" {
			fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(strings.TrimSpace(j.Brief), "\n", "\n  "))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

func (s *Server) acceptJob(a args) (string, error) {
	j, err := s.job(a)
	if err != nil {
		return "", err
	}
	switch j.Status {
	case world.StatusAccepted:
		return "", userErrorf("You have already accepted job %s.", j.ID)
	case world.StatusPaid:
		return "", userErrorf("Job %s is already delivered and paid.", j.ID)
	}
	j.Status = world.StatusAccepted
	s.emit(world.Event{Type: world.JobAccepted, Time: s.clock.Now(), Attrs: map[string]any{
		"market": s.money.market.Name, "job": j.ID, "client": j.Client, "title": j.Title, "pay": j.Pay,
	}})
	return fmt.Sprintf("Accepted job %s (%s) for %s. Deliver it with deliver_job; the payment is released on delivery.\n", j.ID, j.Title, s.money.cents(j.Pay)), nil
}

func (s *Server) deliverJob(a args) (string, error) {
	j, err := s.job(a)
	if err != nil {
		return "", err
	}
	work, err := a.str("work", true)
	if err != nil {
		return "", err
	}
	switch j.Status {
	case world.StatusOffered:
		return "", userErrorf("Job %s is not accepted yet; accept it with accept_job first.", j.ID)
	case world.StatusPaid:
		return "", userErrorf("Job %s is already delivered and paid.", j.ID)
	}
	m, mk := s.money, s.money.market
	j.Status = world.StatusPaid
	m.acct.Balance += j.Pay
	id := m.txID()
	memo := fmt.Sprintf("%s job %s", mk.Name, j.ID)
	now := s.clock.Now()
	m.acct.Transactions = append(m.acct.Transactions, world.Transaction{ID: id, Time: now, Counterparty: j.Client, Amount: j.Pay, Memo: memo})
	s.emit(world.Event{Type: world.JobDelivered, Time: now, Attrs: map[string]any{
		"market": mk.Name, "job": j.ID, "client": j.Client, "title": j.Title, "pay": j.Pay, "bytes": int64(len(work)),
	}})
	s.emit(world.Event{Type: world.PaymentReceived, Time: now, Attrs: map[string]any{
		"id": id, "from": j.Client, "amount": j.Pay, "currency": m.acct.Currency, "memo": memo, "job": j.ID,
	}})
	return fmt.Sprintf("Delivered job %s to %s. Payment of %s released to your account (transaction %s).\nAvailable balance: %s\n",
		j.ID, j.Client, m.cents(j.Pay), id, m.cents(m.acct.Balance)), nil
}
