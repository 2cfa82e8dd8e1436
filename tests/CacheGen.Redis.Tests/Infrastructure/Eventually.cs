using System.Diagnostics;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>Waits for something another instance or a background task does, failing the test if it never happens.</summary>
public static class Eventually
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> every 10 ms; fails with "timed out waiting for <paramref name="what"/>" after 20 s.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < HangGuard, "timed out waiting for " + what);
            await Task.Delay(10);
        }
    }

    /// <summary>As <see cref="Until(Func{bool}, string)"/>, for a condition that has to ask a cache.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < HangGuard, "timed out waiting for " + what);
            await Task.Delay(10);
        }
    }
}
