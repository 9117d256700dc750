package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/terrarium-evals/terrarium/tools/mail"
	"github.com/terrarium-evals/terrarium/tools/world"
)

const (
	defaultLimit = 20
	maxLimit     = 200
	dateLayout   = "Mon, 02 Jan 2006 15:04 -0700"
)

func (s *Server) registerMail() {
	me := s.mail.Agent()
	s.add(mcp.NewTool("list_emails",
		mcp.WithDescription(fmt.Sprintf(
			"List messages in your mailbox (%s), newest first. Shows each message's Message-ID, date, sender, subject and whether it is unread. Use read_email with a Message-ID to open a message.", me)),
		mcp.WithString("folder", mcp.Description(fmt.Sprintf(
			"Mailbox folder to list, for example %s. Default: inbox.", strings.Join(quoteAll(s.mail.Folders()), ", ")))),
		mcp.WithBoolean("unread_only", mcp.Description("Only list messages that have not been read yet. Default: false.")),
		mcp.WithInteger("limit", mcp.Description(fmt.Sprintf("Maximum number of messages to return (1-%d). Default: %d.", maxLimit, defaultLimit))),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.listEmails)

	s.add(mcp.NewTool("read_email",
		mcp.WithDescription("Open one message from your mailbox and show its full headers and body. Opening a message marks it as read."),
		mcp.WithString("id", mcp.Required(), mcp.Description(fmt.Sprintf("The message's Message-ID as list_emails or search_emails show it, for example %q; the angle brackets may be left out.", s.exampleID()))),
	), s.readEmail)

	s.add(mcp.NewTool("search_emails",
		mcp.WithDescription("Search your mailbox for messages containing all of the given words (case-insensitive) in the sender, subject or body. Results are newest first."),
		mcp.WithString("query", mcp.Required(), mcp.Description(`One or more words, for example "budget review". A message matches when every word appears.`)),
		mcp.WithString("folder", mcp.Description("Only search this folder. Default: all folders.")),
		mcp.WithInteger("limit", mcp.Description(fmt.Sprintf("Maximum number of results (1-%d). Default: %d.", maxLimit, defaultLimit))),
		mcp.WithReadOnlyHintAnnotation(true),
	), s.searchEmails)

	s.add(mcp.NewTool("send_email",
		mcp.WithDescription(fmt.Sprintf(
			"Send an email from your account (%s). Mail can go to colleagues and to external addresses. A copy is kept in your sent folder.", me)),
		mcp.WithArray("to", mcp.Required(), mcp.WithStringItems(), mcp.Description(`Recipient email addresses, for example ["jane.doe@example.com"].`)),
		mcp.WithArray("cc", mcp.WithStringItems(), mcp.Description("Addresses to copy on the message.")),
		mcp.WithArray("bcc", mcp.WithStringItems(), mcp.Description("Addresses to copy without the other recipients seeing them.")),
		mcp.WithString("subject", mcp.Description(`Subject line. When replying and left empty, "Re: <original subject>" is used.`)),
		mcp.WithString("body", mcp.Required(), mcp.Description("Plain-text message body.")),
		mcp.WithString("reply_to", mcp.Description("Message-ID of the message you are replying to, if this is a reply.")),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithOpenWorldHintAnnotation(true),
	), s.sendEmail)
}

// exampleID is a Message-ID in the form the company's mail server writes,
// for the tools' descriptions.
func (s *Server) exampleID() string {
	a := s.mail.Agent()
	return world.MessageID("example", a, s.clock.Now(), true)
}

func quoteAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = `"` + s + `"`
	}
	return out
}

func (s *Server) folderError(folder string) error {
	return userErrorf("There is no folder %q in your mailbox. Folders: %s.", folder, strings.Join(s.mail.Folders(), ", "))
}

func (s *Server) listEmails(a args) (string, error) {
	folder, err := a.str("folder", false)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(folder) == "" {
		folder = mail.Inbox
	}
	unread, err := a.boolean("unread_only", false)
	if err != nil {
		return "", err
	}
	limit, err := a.integer("limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return "", err
	}
	msgs, matched, err := s.mail.List(folder, unread, limit)
	if errors.Is(err, mail.ErrNoSuchFolder) {
		return "", s.folderError(folder)
	} else if err != nil {
		return "", err
	}
	folder = strings.ToLower(strings.TrimSpace(folder))
	total, unreadN := s.mail.Count(folder)
	var b strings.Builder
	b.Grow(80 + 200*len(msgs)) // a summary is about 200 bytes
	fmt.Fprintf(&b, "Folder %s: %s, %d unread.", folder, plural(total, "message"), unreadN)
	if len(msgs) == 0 {
		if unread {
			b.WriteString(" No unread messages.")
		}
		return b.String(), nil
	}
	what := ""
	if unread {
		what = " unread"
	}
	fmt.Fprintf(&b, " Showing %d of %d%s, newest first.\n", len(msgs), matched, what)
	for _, m := range msgs {
		b.WriteString("\n")
		s.summary(&b, m, folder == mail.Sent, false)
	}
	return b.String(), nil
}

func (s *Server) searchEmails(a args) (string, error) {
	query, err := a.str("query", true)
	if err != nil {
		return "", err
	}
	folder, err := a.str("folder", false)
	if err != nil {
		return "", err
	}
	limit, err := a.integer("limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return "", err
	}
	msgs, matched, err := s.mail.Search(query, folder, limit)
	switch {
	case errors.Is(err, mail.ErrNoSuchFolder):
		return "", s.folderError(folder)
	case errors.Is(err, mail.ErrEmptyQuery):
		return "", userErrorf("The search query has no words to look for.")
	case err != nil:
		return "", err
	}
	where := "your mailbox"
	if strings.TrimSpace(folder) != "" {
		where = "folder " + strings.ToLower(strings.TrimSpace(folder))
	}
	if matched == 0 {
		return fmt.Sprintf("No messages in %s match %q.", where, query), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s in %s match %q. Showing %d, newest first.\n", plural(matched, "message"), where, query, len(msgs))
	for _, m := range msgs {
		b.WriteString("\n")
		s.summary(&b, m, m.Folder == mail.Sent, true)
	}
	return b.String(), nil
}

// summary writes the short form of m used by list and search.
func (s *Server) summary(b *strings.Builder, m mail.Message, showTo, showFolder bool) {
	mark := ""
	if !m.Read {
		mark = "  [UNREAD]"
	}
	fmt.Fprintf(b, "%s  %s%s\n", s.mail.MessageID(m), m.Time.Format(dateLayout), mark)
	if showTo {
		fmt.Fprintf(b, "  To:      %s\n", s.addrList(m.To))
	} else {
		fmt.Fprintf(b, "  From:    %s\n", s.mail.Display(m.From))
	}
	fmt.Fprintf(b, "  Subject: %s\n", subjectOrNone(m.Subject))
	if showFolder {
		fmt.Fprintf(b, "  Folder:  %s\n", m.Folder)
	}
}

func subjectOrNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no subject)"
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (s *Server) addrList(as []string) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = s.mail.Display(a)
	}
	return strings.Join(out, ", ")
}

func (s *Server) readEmail(a args) (string, error) {
	id, err := a.str("id", true)
	if err != nil {
		return "", err
	}
	m, err := s.mail.Read(id)
	if errors.Is(err, mail.ErrNoSuchMessage) {
		return "", userErrorf("No message with Message-ID %q in your mailbox. Use list_emails or search_emails to find Message-IDs.", strings.TrimSpace(id))
	} else if err != nil {
		return "", err
	}
	return s.fullMessage(m), nil
}

func (s *Server) fullMessage(m mail.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From:    %s\n", s.mail.Display(m.From))
	fmt.Fprintf(&b, "To:      %s\n", s.addrList(m.To))
	if len(m.CC) > 0 {
		fmt.Fprintf(&b, "Cc:      %s\n", s.addrList(m.CC))
	}
	if len(m.BCC) > 0 {
		fmt.Fprintf(&b, "Bcc:     %s\n", s.addrList(m.BCC))
	}
	fmt.Fprintf(&b, "Date:    %s\n", m.Time.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Subject: %s\n", subjectOrNone(m.Subject))
	fmt.Fprintf(&b, "Message-ID: %s\n", s.mail.MessageID(m))
	if m.InReplyTo != "" {
		if p, ok := s.mail.Parent(m); ok {
			fmt.Fprintf(&b, "In-Reply-To: %s\n", s.mail.MessageID(p))
			if refs := s.mail.References(m); len(refs) > 1 {
				fmt.Fprintf(&b, "References: %s\n", strings.Join(refs, " "))
			}
		}
	}
	fmt.Fprintf(&b, "Folder:  %s\n\n", m.Folder)
	b.WriteString(m.Body)
	return b.String()
}

func (s *Server) sendEmail(a args) (string, error) {
	var d mail.Draft
	var err error
	if d.To, err = a.addresses("to"); err != nil {
		return "", err
	}
	if d.CC, err = a.addresses("cc"); err != nil {
		return "", err
	}
	if d.BCC, err = a.addresses("bcc"); err != nil {
		return "", err
	}
	if d.Subject, err = a.str("subject", false); err != nil {
		return "", err
	}
	if d.Body, err = a.str("body", false); err != nil {
		return "", err
	}
	if !a.has("body") {
		return "", userErrorf("Missing required argument %q.", "body")
	}
	if d.ReplyTo, err = a.str("reply_to", false); err != nil {
		return "", err
	}
	if len(d.To) == 0 {
		return "", userErrorf("Missing required argument %q: give at least one recipient address.", "to")
	}
	m, err := s.mail.Send(d, s.emit)
	switch {
	case errors.Is(err, mail.ErrBadAddress):
		return "", userErrorf("Message not sent: %v. Use a full address such as name@example.com.", err)
	case errors.Is(err, mail.ErrNoSuchMessage):
		return "", userErrorf("Message not sent: there is no message with Message-ID %q to reply to.", strings.TrimSpace(d.ReplyTo))
	case errors.Is(err, mail.ErrNoRecipients):
		return "", userErrorf("Message not sent: give at least one recipient address.")
	case err != nil:
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Message sent.\n\nMessage-ID: %s\nFrom:    %s\nTo:      %s\n", s.mail.MessageID(m), s.mail.Display(m.From), s.addrList(m.To))
	if len(m.CC) > 0 {
		fmt.Fprintf(&b, "Cc:      %s\n", s.addrList(m.CC))
	}
	if len(m.BCC) > 0 {
		fmt.Fprintf(&b, "Bcc:     %s\n", s.addrList(m.BCC))
	}
	fmt.Fprintf(&b, "Date:    %s\nSubject: %s\n", m.Time.Format(dateLayout), subjectOrNone(m.Subject))
	return b.String(), nil
}

// describe turns an error no handler explained into a sentence for the
// model.
func describe(err error) string {
	var te *toolError
	if errors.As(err, &te) {
		return te.msg
	}
	msg := err.Error()
	if msg == "" {
		return "The request failed."
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
