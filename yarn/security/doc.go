// Package security holds the SASL mechanisms with which package yarn/ipc
// authenticates to a secure Hadoop server.
//
// # GSSAPI (auth method KERBEROS)
//
// GSSAPI runs RFC 4752 over Kerberos v5 (RFC 4121) with a gokrb5 client
// that has already logged in (keytab or ticket cache):
//
//	server offers KERBEROS/GSSAPI, protocol "rm", server id "host"
//	check rm/host@REALM against the configured principal (_HOST = host)
//	INITIATE   InitialContextToken(AP-REQ, mutual auth)       ─▶
//	CHALLENGE  ◀─ AP-REP: verified with the session key (the server holds the service key)
//	RESPONSE   (empty)                                        ─▶
//	CHALLENGE  ◀─ Wrap(layers offered, max buffer)
//	RESPONSE   Wrap(layer chosen, our max buffer)             ─▶
//	SUCCESS    ◀─
//
// The layer is the first of GSSAPI.Protection (hadoop.rpc.protection) that
// the server offers: authentication (no layer), integrity (RFC 4121 Wrap
// tokens with a checksum) or privacy (sealed Wrap tokens). A server
// principal other than the configured one is a *PrincipalError naming both,
// before any ticket is fetched.
//
// Tested against the real ResourceManager at authentication (the test
// Hadoop runs hadoop.rpc.protection=authentication); integrity and privacy
// against the JDK's GSSAPI SaslServer, the acceptor inside Hadoop's RPC
// server, with the cluster's KDC and service keytab (package yarn's
// TestGSSAPISecurityLayersAgainstJavaSASL): it unwraps what Go wraps and Go
// unwraps what it wraps.
package security
