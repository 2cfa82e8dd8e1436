namespace CacheGen.Redis;

/// <summary>What a Redis entry value turned out to be.</summary>
internal enum EnvelopeKind
{
    /// <summary>Bytes we did not write, or wrote in a format we no longer read: a miss.</summary>
    Invalid,

    /// <summary>A cached value: header, generations, payload format, schema, checksum, payload.</summary>
    Value,

    /// <summary>A single-entry eviction marker: a miss whose stamp still guards against stale writes.</summary>
    Tombstone,

    /// <summary>A value in the previous format (version 3, without its expiry): a plain miss, replaced by the next fill.</summary>
    Outdated,

    /// <summary>
    /// A value in a format newer than this runtime reads (written by a newer CacheGen during a rolling deploy): a quiet
    /// miss that this runtime never overwrites (the write script keeps it; see <see cref="Envelope.IsNewerVersion"/>).
    /// </summary>
    Newer,
}
