// librdkafka (Debian's librdkafka-dev) for Swift: the client API and the mock cluster (a test double of a Kafka
// cluster inside the client library, used by vigil-kafka-mock and the tests; no broker is installed here).
#ifndef VIGIL_CRDKAFKA_SHIM_H
#define VIGIL_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
