/** Striped counters, histograms and the Prometheus text exposition writer; no dependencies. */
module kiri.metrics {
    exports kiri.metrics;
}
