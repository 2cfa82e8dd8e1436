namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>Envelopes as CacheGen writes them, for tests that put bytes in Redis themselves.</summary>
internal static class TestEnvelopes
{
    private static readonly PayloadSerializer Serializer = new(null);

    /// <summary>A value envelope for <paramref name="key"/> written under <paramref name="generations"/> (see <see cref="PostsGenerationsAsync"/>).</summary>
    public static byte[] Value<T>(T value, string key, long[] generations)
    {
        byte[] envelope = Serializer.CreateEnvelope(value, key, generations.Length, out _);
        Envelope.SetGenerations(envelope, generations);
        return envelope;
    }

    /// <summary>
    /// The generations an entry of region "posts" (KeyPrefix "example") carries in Redis: the region's, then the clear
    /// epoch every entry carries last.
    /// </summary>
    public static async Task<long[]> PostsGenerationsAsync(StackExchange.Redis.IDatabase database) =>
    [
        long.Parse((string)(await database.StringGetAsync("example:1:#gen:{posts}"))!),
        long.Parse((string)(await database.StringGetAsync("example:1:#clear"))!),
    ];
}
