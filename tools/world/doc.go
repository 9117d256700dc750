// Package world holds the plain data that describes a simulated world and
// what happens in it: the Spec a scenario renders into, the Events that tools
// emit when they change the world, and the simulated Clock.
//
// A Spec is JSON-serialisable so that it can cross into a sandbox container.
// Nothing in this package, or in the packages that act on a Spec (mail, vfs,
// shell, server), touches the host's filesystem or network.
package world
