// libosip2's parser (Debian libosip2-dev), benchmark-only: the peer TipRing's SIP parser is
// measured against.
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>
