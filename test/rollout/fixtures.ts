/** The analysis file of issue 9, verbatim, and the same as YAML. */
export const ISSUE_EXAMPLE = String.raw`{"metrics": [
  {"name": "p99-latency", "provider": {"serve": {"url": "http://127.0.0.1:8080/metrics"}}, "query": "p99_latency_ms",
   "successCondition": "result <= 25", "interval": "2s", "count": 2, "failureLimit": 0, "inconclusiveLimit": 1, "minRequests": 10},
  {"name": "error-rate", "provider": {"prometheus": {"address": "http://127.0.0.1:9090"}},
   "query": "sum(rate(mlv_requests_total{model=\"{{model}}\",variant=\"candidate\",code=~\"5..\"}[{{interval}}])) / sum(rate(mlv_requests_total{model=\"{{model}}\",variant=\"candidate\"}[{{interval}}]))",
   "successCondition": "result <= 0.01", "interval": "10s", "count": 3, "failureLimit": 1}
]}`;

export const YAML_EXAMPLE = `metrics:
  - name: p99-latency
    provider:
      serve:
        url: http://127.0.0.1:8080/metrics
    query: p99_latency_ms
    successCondition: result <= 25
    interval: 2s
    count: 2
    failureLimit: 0
    inconclusiveLimit: 1
    minRequests: 10
  - name: error-rate
    provider:
      prometheus:
        address: http://127.0.0.1:9090
    query: >-
      sum(rate(mlv_requests_total{model="{{model}}",variant="candidate",code=~"5.."}[{{interval}}]))
      / sum(rate(mlv_requests_total{model="{{model}}",variant="candidate"}[{{interval}}]))
    successCondition: result <= 0.01
    interval: 10s
    count: 3
    failureLimit: 1
`;
