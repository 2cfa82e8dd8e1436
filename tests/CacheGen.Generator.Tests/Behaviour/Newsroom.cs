using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// Methods with fail-safe and conditions, as a user would write them; this project's build generates the wrappers.
/// Each core returns <see cref="Next"/> (or throws <see cref="Failure"/>) and counts its calls, so a test sees what
/// was stored.
/// </summary>
public sealed partial class Newsroom(HybridCache cache)
{
    private int _calls;

    /// <summary>What the next core call returns.</summary>
    public string? Next { get; set; }

    /// <summary>When set, what the next core call throws instead.</summary>
    public Exception? Failure { get; set; }

    /// <summary>When set, the next core calls wait for it instead (to have callers join one call).</summary>
    public TaskCompletionSource<string?>? Gate { get; set; }

    /// <summary>How often a [Cached] method's core ran.</summary>
    public int Calls => _calls;

    [Cached("news-optional", CacheNull = false)]
    public partial Task<string?> FindAsync(int id);
    private Task<string?> FindCoreAsync(int id) => Produce();

    [Cached("news-titles", Unless = nameof(IsDraft))]
    public partial ValueTask<string?> TitleAsync(int id);
    private async ValueTask<string?> TitleCoreAsync(int id) => await Produce();

    [Cached("news-titles", Key = "sync:{id}", Unless = nameof(IsDraft))]
    public partial string? Title(int id);
    private string? TitleCore(int id) => Produce().GetAwaiter().GetResult();

    [Cached("news-headlines", Key = "headline:{id}", TtlSeconds = 60, StaleSeconds = 600)]
    public partial Task<string?> HeadlineAsync(int id);
    private Task<string?> HeadlineCoreAsync(int id) => Produce();

    [Cached("news-headlines", Key = "slow:{id}", TtlSeconds = 60, StaleSeconds = 600, TimeoutMilliseconds = 200)]
    public partial Task<string?> SlowHeadlineAsync(int id);
    private Task<string?> SlowHeadlineCoreAsync(int id) => Produce();

    [UpdatesCache(nameof(FindAsync))]
    public partial Task<string?> ReplaceAsync(int id);
    private Task<string?> ReplaceCoreAsync(int id) => Produce();

    [UpdatesCache(nameof(TitleAsync))]
    public partial Task<string?> RetitleAsync(int id);
    private Task<string?> RetitleCoreAsync(int id) => Produce();

    [InvalidatesCache("news-headlines")]
    public partial Task EvictHeadlinesAsync();
    private Task EvictHeadlinesCoreAsync() => Task.CompletedTask;

    // Private: the generated wrapper calls it from the method's own body.
    private static bool IsDraft(string? title) => title?.StartsWith("draft", StringComparison.Ordinal) == true;

    private Task<string?> Produce()
    {
        Interlocked.Increment(ref _calls);
        if (Gate is { } gate)
            return gate.Task;
        return Failure is { } failure ? Task.FromException<string?>(failure) : Task.FromResult(Next);
    }
}

/// <summary>
/// A fail-safe method used only by the test of the degradation warning: the warning is said once per method per
/// process, so no other test may call it on a cache that warns.
/// </summary>
public sealed partial class Wire(HybridCache cache)
{
    public int Calls { get; private set; }

    [Cached("wire", StaleSeconds = 300)]
    public partial Task<string> StoryAsync(int id);
    private Task<string> StoryCoreAsync(int id)
    {
        Calls++;
        return Task.FromResult($"story {id}");
    }
}
