"""The use cases, grouped by OCPP functional block, over the ports of :mod:`csms.domain`.

Services import the domain and the kernel only. Every operation the operator API reaches takes
a :class:`~csms.domain.tenancy.TenantScope`; the charger path gets its tenant from the
charger's :class:`~csms.domain.stations.ChargerContext`. The services are meant to know no
protocol version, and are as neutral as the domain they speak (see :mod:`csms.domain`).
"""
