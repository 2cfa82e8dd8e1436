using System.ComponentModel;
using System.Text.Json.Serialization;
using CacheGen;
using Microsoft.EntityFrameworkCore;

// The app's own types that the docs' C# blocks take for granted (DocsCodeTests compiles the blocks against them).
// Add a type or member here only when a block uses it without declaring it; keep bodies trivial.
namespace CacheGen.Generator.Tests.Docs.Prelude;

[ImmutableObject(true)]
public sealed record Post(int Id, string Title, string Content = "", int Version = 1)
{
    public bool Draft { get; init; }
}

[ImmutableObject(true)]
public sealed record PostDto(int Id, string Title);

public sealed record PostDraft(string Title, string Content);

public sealed class PostStore
{
    public Task<IReadOnlyList<Post>> ListAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Post>>([]);
    public Task<IReadOnlyList<Post>> ListPageAsync(int page, int size, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Post>>([]);
    public Task<IReadOnlyList<Post>> SearchAsync(string text, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<Post>>([]);
    public Task<Post?> FindAsync(int id, CancellationToken ct = default) => Task.FromResult<Post?>(null);
    public Task<IReadOnlyDictionary<int, Post>> FindManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyDictionary<int, Post>>(new Dictionary<int, Post>());
    public Task<Post> SaveAsync(Post post, CancellationToken ct = default) => Task.FromResult(post);
    public Task<Post> SaveAsync(PostDraft draft, CancellationToken ct = default) => Task.FromResult(new Post(0, draft.Title, draft.Content));
    public Task<int> CountAsync(CancellationToken ct = default) => Task.FromResult(0);
    public Task RefreshAsync(int id, CancellationToken ct = default) => Task.CompletedTask;
    public Task<Post?> UpdateAsync(int id, string title, string content, CancellationToken ct = default) => Task.FromResult<Post?>(null);
    public Task<bool> DeleteAsync(int id, CancellationToken ct = default) => Task.FromResult(false);
    public Task<int> ArchiveAsync(IReadOnlyList<int> ids, CancellationToken ct = default) => Task.FromResult(ids.Count);
}

/// <summary>The service the pages build up, for blocks that only call it (a block that declares its own hides this one).</summary>
public sealed class PostService(PostStore store)
{
    public async Task<JsonPayload> GetAllJsonAsync(CancellationToken ct = default) =>
        JsonPayload.Serialize(new DjangoPostList(await store.ListAsync(ct)), CacheJsonContext.Default.DjangoPostList);
}

/// <summary>Django REST framework's list shape, as the sample serves it.</summary>
[ImmutableObject(true)]
public sealed record DjangoPostList(IReadOnlyList<Post> Posts);

[JsonSerializable(typeof(IReadOnlyList<Post>))]
[JsonSerializable(typeof(Post))]
[JsonSerializable(typeof(DjangoPostList))]
public sealed partial class CacheJsonContext : JsonSerializerContext;

public sealed class BlogContext(DbContextOptions<BlogContext> options) : DbContext(options)
{
    public DbSet<Post> Posts => Set<Post>();
}

/// <summary>docs/diagnostics/CG0030.md's context, which its fixed example uses again.</summary>
public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<Book> Books => Set<Book>();
}

public sealed class Book
{
    public int Id { get; set; }
    public string Title { get; set; } = "";
}

/// <summary>docs/diagnostics/CG0070.md's service, which its fixed example registers again.</summary>
public sealed class BookService;
