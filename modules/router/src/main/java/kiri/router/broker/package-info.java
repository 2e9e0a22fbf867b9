/** The broker's request handlers over the storage SPI; assembled by {@link kiri.router.BrokerRoutes}. */
package kiri.router.broker;
