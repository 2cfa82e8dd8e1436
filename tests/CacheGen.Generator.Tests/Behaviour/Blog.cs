using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Generator.Tests.Behaviour;

public sealed record BlogPost(int Id, int AuthorId);

/// <summary>
/// Posts and lists cached with tags, evicted by tag and by method, and written through, as a user would write them;
/// this project's build generates the wrappers. Each read's core returns the current <see cref="Version"/>, so a test
/// sees which entries were refilled.
/// </summary>
public sealed partial class Blog(HybridCache cache)
{
    private int _reads;

    public int Version { get; set; }

    /// <summary>How often a [Cached] method's core ran.</summary>
    public int Reads => _reads;

    [Cached("blog-posts", Key = "post:{id}", Tags = ["post:{id}"])]
    public partial Task<string> GetPostAsync(int id);
    private Task<string> GetPostCoreAsync(int id) => Read($"post {id}");

    [Cached("blog-posts", Key = "post:{id}:{lang}")]
    public partial Task<string> GetPostAsync(int id, string lang);
    private Task<string> GetPostCoreAsync(int id, string lang) => Read($"post {id} in {lang}");

    [Cached("blog-lists", Key = "author:{authorId}", Tags = ["author:{authorId}"])]
    public partial Task<string> ByAuthorAsync(int authorId);
    private Task<string> ByAuthorCoreAsync(int authorId) => Read($"author {authorId}");

    // The author tag again, in another region: evicting it reaches both.
    [Cached("blog-feed", Tags = ["author:{author}"])]
    public partial Task<string> FeedAsync(int author);
    private Task<string> FeedCoreAsync(int author) => Read($"feed {author}");

    [InvalidatesCache(Tags = ["post:{post.Id}", "author:{post.AuthorId}"])]
    public partial Task SaveAsync(BlogPost post);
    private Task SaveCoreAsync(BlogPost post) => Task.CompletedTask;

    // Only GetPostAsync(int) can be built from an id; GetPostAsync(int, string) needs a language too.
    [InvalidatesCache(Method = nameof(GetPostAsync))]
    public partial Task DeleteAsync(int id);
    private Task DeleteCoreAsync(int id) => Task.CompletedTask;

    [InvalidatesCache(Method = nameof(GetPostAsync))]
    public partial Task DeleteTranslationAsync(int id, string lang);
    private Task DeleteTranslationCoreAsync(int id, string lang) => Task.CompletedTask;

    [UpdatesCache(nameof(GetPostAsync))]
    public partial Task<string> RetitleAsync(int id, string title);
    private Task<string> RetitleCoreAsync(int id, string title) => Task.FromResult($"post {id}: {title}");

    private Task<string> Read(string what)
    {
        Interlocked.Increment(ref _reads);
        return Task.FromResult($"{what} v{Version}");
    }
}
