using System.Data.Common;
using CacheGen.EntityFrameworkCore;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace CacheGen.SampleApi;

/// <summary>
/// The posts table in a SQLite file, through EF Core. Each operation takes a pooled <see cref="PostsContext"/> from a
/// factory (the store is a singleton, a context is not thread-safe) and reads with a projection to <see cref="Post"/>,
/// so no tracked entity ever reaches the cache. Every SQL statement EF Core runs is counted in
/// <see cref="QueryCount"/>, so tests (and the curious) can prove that a cached read never reached the database.
/// </summary>
public sealed class PostStore
{
    /// <summary>How many posts <see cref="AddManyAsync"/> inserts per SaveChanges: bounded memory, a progress step.</summary>
    public const int AddManyBatch = 10_000;

    private readonly PooledDbContextFactory<PostsContext> _contexts;
    private readonly StatementCounter _statements = new();

    public PostStore(string databasePath)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
        _contexts = new PooledDbContextFactory<PostsContext>(new DbContextOptionsBuilder<PostsContext>()
            .UseSqlite(connectionString)
            .AddInterceptors(_statements)
            // A write inside a transaction evicts again after the commit (see README, "Writes inside a transaction").
            .AddCacheGenInvalidation()
            .Options);
    }

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>How many SQL statements this store has executed.</summary>
    public long QueryCount => _statements.Count;

    /// <summary>Creates the file and the table if they are missing.</summary>
    public void EnsureCreated()
    {
        if (Path.GetDirectoryName(DatabasePath) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);
        using PostsContext db = _contexts.CreateDbContext();
        // Plain SQL rather than EnsureCreated, which skips a file that already exists: a database made before posts
        // had a version gets the column here. WAL lets readers run while a writer holds the file; AUTOINCREMENT (as
        // Django's SQLite backend does) never reuses the id of a deleted post.
        db.Database.ExecuteSqlRaw("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS posts (
                id      INTEGER PRIMARY KEY AUTOINCREMENT,
                title   TEXT NOT NULL,
                content TEXT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1
            );
            """);
        DbConnection connection = db.Database.GetDbConnection();
        db.Database.OpenConnection();
        using DbCommand hasVersion = connection.CreateCommand();
        hasVersion.CommandText = "SELECT COUNT(*) FROM pragma_table_info('posts') WHERE name = 'version'";
        if ((long)hasVersion.ExecuteScalar()! == 0)
            db.Database.ExecuteSqlRaw("ALTER TABLE posts ADD COLUMN version INTEGER NOT NULL DEFAULT 1");
    }

    /// <summary>Every post, in id order.</summary>
    // Queries read method parameters through locals: EF Core 10's query precompiler fails on a parameter used
    // directly (dotnet/efcore#37365), and CompiledModel/ holds every query of this file precompiled.
    public async Task<IReadOnlyList<Post>> ListAsync(CancellationToken ct = default)
    {
        CancellationToken token = ct;
        await using PostsContext db = _contexts.CreateDbContext();
        return await db.Posts.OrderBy(p => p.Id).Select(p => new Post(p.Id, p.Title, p.Content, p.Version)).ToListAsync(token);
    }

    /// <summary>One page of posts in id order (page 1 first); a page past the end is empty.</summary>
    public async Task<IReadOnlyList<Post>> ListPageAsync(int page, int size, CancellationToken ct = default)
    {
        if (page > int.MaxValue / size)
            return [];
        (int skip, int take, CancellationToken token) = ((page - 1) * size, size, ct);
        await using PostsContext db = _contexts.CreateDbContext();
        return await db.Posts.OrderBy(p => p.Id).Skip(skip).Take(take).Select(p => new Post(p.Id, p.Title, p.Content, p.Version)).ToListAsync(token);
    }

    /// <summary>The post with <paramref name="id"/>, or <c>null</c>.</summary>
    public async Task<Post?> FindAsync(int id, CancellationToken ct = default)
    {
        (int postId, CancellationToken token) = (id, ct);
        await using PostsContext db = _contexts.CreateDbContext();
        return await db.Posts.Where(p => p.Id == postId).Select(p => new Post(p.Id, p.Title, p.Content, p.Version)).SingleOrDefaultAsync(token);
    }

    /// <summary>The posts with these ids, by id, in one query; ids with no post are absent.</summary>
    public async Task<IReadOnlyDictionary<int, Post>> FindManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default)
    {
        // A List, not an array: under C# 14 an array's Contains binds to MemoryExtensions' span overload, which EF Core's
        // query precompilation (Native AOT) cannot translate; List<T>.Contains it can.
        (List<int> wanted, CancellationToken token) = ([.. ids], ct);
        await using PostsContext db = _contexts.CreateDbContext();
        return await db.Posts.Where(p => wanted.Contains(p.Id)).Select(p => new Post(p.Id, p.Title, p.Content, p.Version)).ToDictionaryAsync(p => p.Id, token);
    }

    /// <summary>Inserts a post and returns it with its new id.</summary>
    public async Task<Post> AddAsync(string title, string content, CancellationToken ct = default)
    {
        await using PostsContext db = _contexts.CreateDbContext();
        var row = new PostRow { Title = title, Content = content };
        db.Posts.Add(row);
        await db.SaveChangesAsync(ct);
        return new Post(row.Id, row.Title, row.Content, row.Version);
    }

    /// <summary>Replaces a post's title and content and increments its version; <c>null</c> when there is no such post.</summary>
    public async Task<Post?> UpdateAsync(int id, string title, string content, CancellationToken ct = default)
    {
        (int postId, string newTitle, string newContent, CancellationToken token) = (id, title, content, ct);
        await using PostsContext db = _contexts.CreateDbContext();
        // One transaction: SQLite lets one writer at a time in, so the version read back is the one this update wrote,
        // even with concurrent updates.
        await using var transaction = await db.Database.BeginTransactionAsync(token);
        int updated = await db.Posts.Where(p => p.Id == postId).ExecuteUpdateAsync(set => set
            .SetProperty(p => p.Title, newTitle)
            .SetProperty(p => p.Content, newContent)
            .SetProperty(p => p.Version, p => p.Version + 1), token);
        if (updated == 0)
            return null;
        int version = await db.Posts.Where(p => p.Id == postId).Select(p => p.Version).SingleAsync(token);
        await transaction.CommitAsync(token);
        return new Post(id, title, content, version);
    }

    /// <summary>Deletes a post; <c>false</c> when there was no such post.</summary>
    public async Task<bool> DeleteAsync(int id, CancellationToken ct = default)
    {
        (int postId, CancellationToken token) = (id, ct);
        await using PostsContext db = _contexts.CreateDbContext();
        return await db.Posts.Where(p => p.Id == postId).ExecuteDeleteAsync(token) == 1;
    }

    /// <summary>
    /// Inserts <c>Test Post{i}</c> / <c>This is the test post {i}</c> for i in 0..count-1, like the original
    /// <c>addpost</c> command: one transaction, saved in batches of <see cref="AddManyBatch"/> with the change tracker
    /// cleared after each, so a million posts never sit in memory at once. <paramref name="progress"/> hears the
    /// running total after each batch.
    /// </summary>
    public async Task<int> AddManyAsync(int count, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await using PostsContext db = _contexts.CreateDbContext();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        for (int done = 0; done < count;)
        {
            int end = Math.Min(done + AddManyBatch, count);
            for (int i = done; i < end; i++)
                db.Posts.Add(new PostRow { Title = $"Test Post{i}", Content = $"This is the test post {i}" });
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            done = end;
            progress?.Report(done);
        }
        await transaction.CommitAsync(ct);
        return count;
    }

    /// <summary>Counts every command EF Core sends to SQLite.</summary>
    private sealed class StatementCounter : DbCommandInterceptor
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public override DbCommand CommandInitialized(CommandEndEventData eventData, DbCommand result)
        {
            Interlocked.Increment(ref _count);
            return result;
        }
    }
}
