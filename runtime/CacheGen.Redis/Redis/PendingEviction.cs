namespace CacheGen.Redis;

/// <summary>An eviction Redis did not confirm. <see cref="Sequence"/> tells a replayed one from a newer one of the same name.</summary>
internal readonly record struct PendingEviction(bool IsTag, string Name, TimeSpan Lifetime, long Sequence);
