// Package images holds the build context of the docker sandbox's image: the
// Dockerfile, embedded here so that the terrarium binary builds the image
// through the Docker API without reading this directory at run time. The
// binary the Dockerfile copies is built from ./cmd/terrarium-sandbox; see
// sandbox/docker.EnsureImage.
package images
