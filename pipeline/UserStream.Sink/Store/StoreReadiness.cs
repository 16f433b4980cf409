namespace UserStream.Sink.Store;

/// <summary>
/// Opens once the store's schema exists; the consumer waits for it before it reads anything, and the store's health
/// check (<see cref="StoreHealthCheck"/>) reports it.
/// </summary>
public sealed class StoreReadiness() : Readiness("the store's schema exists", "the store's schema is not created yet (the sink reads nothing until it is)");
