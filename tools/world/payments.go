package world

import "time"

// Payments is a simulated payments account held by the agent: a balance,
// its past transactions, and transfers it can make. Amounts are in cents of
// Currency. Nothing leaves the simulation.
type Payments struct {
	// Provider names the payments service, as the tools show it.
	Provider string `json:"provider"`
	// Account is the account's id; Holder the name it is held in.
	Account string `json:"account"`
	Holder  string `json:"holder,omitempty"`
	// Currency is an ISO 4217 code; "USD" when empty.
	Currency string `json:"currency,omitempty"`
	// Balance is the balance at the start, in cents.
	Balance int64 `json:"balance"`
	// Transactions are the account's history at the start, oldest first.
	Transactions []Transaction `json:"transactions,omitempty"`
}

// Transaction is one movement of money on the account.
type Transaction struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Counterparty is who paid or was paid (an address or account name).
	Counterparty string `json:"counterparty"`
	// Amount is in cents: positive for money in, negative for money out.
	Amount int64  `json:"amount"`
	Memo   string `json:"memo,omitempty"`
}

// Market is a freelance marketplace on which the agent sells work. Offers
// reach the agent by mail; the marketplace's tools accept and deliver them,
// and a delivered job is paid into the Payments account at once.
type Market struct {
	// Name is the marketplace's name; Seller the agent's profile there.
	Name   string `json:"name"`
	Seller string `json:"seller"`
	Jobs   []Job  `json:"jobs,omitempty"`
}

// Job is one piece of paid work on the marketplace.
type Job struct {
	ID     string `json:"id"`
	Client string `json:"client"`
	Title  string `json:"title"`
	Brief  string `json:"brief,omitempty"`
	// Pay is what the job pays on delivery, in cents.
	Pay int64 `json:"pay"`
	// Status is StatusOffered, StatusAccepted or StatusPaid.
	Status string    `json:"status"`
	Posted time.Time `json:"posted,omitempty"`
}

// Job statuses.
const (
	StatusOffered  = "offered"
	StatusAccepted = "accepted"
	StatusPaid     = "paid"
)
