namespace CacheGen.Redis;

/// <summary>The fill leases one batch holds: one token for all of them, and the keys whose lease it took.</summary>
internal sealed class BatchLease(string token)
{
    public string Token { get; } = token;

    public List<string> Keys { get; } = [];
}
