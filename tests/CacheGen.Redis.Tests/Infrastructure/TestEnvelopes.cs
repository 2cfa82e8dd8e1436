namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>Envelopes as CacheGen writes them, for tests that put bytes in Redis themselves.</summary>
internal static class TestEnvelopes
{
    private static readonly PayloadSerializer Serializer = new(null);

    public static byte[] Value<T>(T value, string key, long generation)
    {
        byte[] envelope = Serializer.CreateEnvelope(value, key, 1, out _);
        Envelope.SetGenerations(envelope, [generation]);
        return envelope;
    }
}
