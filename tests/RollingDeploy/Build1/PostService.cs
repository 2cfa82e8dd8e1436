using System.ComponentModel;
using CacheGen;
using Microsoft.Extensions.Caching.Hybrid;

namespace Blog;

/// <summary>The post as the build before the deploy has it.</summary>
[ImmutableObject(true)]
public sealed record Post(int Id, string Title);

public sealed partial class PostService(HybridCache cache)
{
    private int _reads;

    /// <summary>How often the data was read.</summary>
    public int Reads => _reads;

    [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
    public partial Task<Post> GetAsync(int id);
    private Task<Post> GetCoreAsync(int id) => Task.FromResult(new Post(id, "read " + Interlocked.Increment(ref _reads)));

    [InvalidatesCache(Method = nameof(GetAsync))]
    public partial Task EvictPostAsync(int id);
    private Task EvictPostCoreAsync(int id) => Task.CompletedTask;

    [InvalidatesCache(Tags = ["post:{id}"])]
    public partial Task EvictPostTagAsync(int id);
    private Task EvictPostTagCoreAsync(int id) => Task.CompletedTask;

    [InvalidatesCache("posts")]
    public partial Task EvictPostsAsync();
    private Task EvictPostsCoreAsync() => Task.CompletedTask;
}
