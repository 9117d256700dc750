// Package loopback keeps a local HTTP server local: it listens on the
// loopback interface only (unless remote access is asked for), and it
// admits only requests whose Host names the loopback interface and the
// server's port and whose Origin, if any, is a loopback origin, so that a
// web page elsewhere cannot reach the server by DNS rebinding. terrarium
// serve (MCP over HTTP) and terrarium view (the web viewer) share it.
package loopback
