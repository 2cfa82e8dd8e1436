using Microsoft.Data.Sqlite;

namespace CacheGen.SampleApi;

/// <summary>
/// The posts table in a SQLite file. Every SQL statement it runs is counted in <see cref="QueryCount"/>, so tests
/// (and the curious) can prove that a cached read never reached the database.
/// </summary>
public sealed class PostStore
{
    private readonly string _connectionString;
    private long _queryCount;

    public PostStore(string databasePath)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
    }

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>How many SQL statements this store has executed.</summary>
    public long QueryCount => Interlocked.Read(ref _queryCount);

    /// <summary>Creates the file and the table if they are missing.</summary>
    public void EnsureCreated()
    {
        if (Path.GetDirectoryName(DatabasePath) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        // WAL lets readers run while a writer holds the file; AUTOINCREMENT (as Django's SQLite backend does) never
        // reuses the id of a deleted post.
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS posts (
                id      INTEGER PRIMARY KEY AUTOINCREMENT,
                title   TEXT NOT NULL,
                content TEXT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1
            );
            """;
        command.ExecuteNonQuery();

        // A database made before posts had a version gets the column (existing posts start at 1).
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('posts') WHERE name = 'version'";
        if ((long)command.ExecuteScalar()! == 0)
        {
            command.CommandText = "ALTER TABLE posts ADD COLUMN version INTEGER NOT NULL DEFAULT 1";
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Every post, in id order.</summary>
    public async Task<IReadOnlyList<Post>> ListAsync(CancellationToken ct = default)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT id, title, content, version FROM posts ORDER BY id";
        Counted();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(ct);
        var posts = new List<Post>();
        while (await reader.ReadAsync(ct))
            posts.Add(Read(reader));
        return posts;
    }

    /// <summary>The post with <paramref name="id"/>, or <c>null</c>.</summary>
    /// <summary>One page of posts in id order (page 1 first).</summary>
    public async Task<IReadOnlyList<Post>> ListPageAsync(int page, int size, CancellationToken ct = default)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT id, title, content, version FROM posts ORDER BY id LIMIT $size OFFSET $offset";
        command.Parameters.AddWithValue("$size", size);
        command.Parameters.AddWithValue("$offset", (long)(page - 1) * size);
        Counted();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(ct);
        var posts = new List<Post>();
        while (await reader.ReadAsync(ct))
            posts.Add(Read(reader));
        return posts;
    }

    public async Task<Post?> FindAsync(int id, CancellationToken ct = default)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT id, title, content, version FROM posts WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        Counted();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Inserts a post and returns it with its new id.</summary>
    public async Task<Post> AddAsync(string title, string content, CancellationToken ct = default)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO posts (title, content) VALUES ($title, $content) RETURNING id";
        command.Parameters.AddWithValue("$title", title);
        command.Parameters.AddWithValue("$content", content);
        Counted();
        long id = (long)(await command.ExecuteScalarAsync(ct))!;
        return new Post(checked((int)id), title, content);
    }

    /// <summary>Replaces a post's title and content and increments its version; <c>null</c> when there is no such post.</summary>
    public async Task<Post?> UpdateAsync(int id, string title, string content, CancellationToken ct = default)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        // One statement: the version returned is the one this update wrote, even with concurrent updates.
        command.CommandText = "UPDATE posts SET title = $title, content = $content, version = version + 1 WHERE id = $id RETURNING version";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$title", title);
        command.Parameters.AddWithValue("$content", content);
        Counted();
        return await command.ExecuteScalarAsync(ct) is long version ? new Post(id, title, content, checked((int)version)) : null;
    }

    /// <summary>Deletes a post; <c>false</c> when there was no such post.</summary>
    public async Task<bool> DeleteAsync(int id, CancellationToken ct = default)
    {
        await using SqliteConnection connection = await OpenAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "DELETE FROM posts WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        Counted();
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// Inserts <c>Test Post{i}</c> / <c>This is the test post {i}</c> for i in 0..count-1, like the original
    /// <c>addpost</c> command: one transaction and one prepared statement, so 1000 posts take milliseconds.
    /// </summary>
    public async Task<int> AddManyAsync(int count, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await using SqliteConnection connection = await OpenAsync(ct);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO posts (title, content) VALUES ($title, $content)";
        SqliteParameter title = command.Parameters.Add("$title", SqliteType.Text);
        SqliteParameter content = command.Parameters.Add("$content", SqliteType.Text);
        command.Prepare();
        for (int i = 0; i < count; i++)
        {
            title.Value = $"Test Post{i}";
            content.Value = $"This is the test post {i}";
            Counted();
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return count;
    }

    private static Post Read(SqliteDataReader reader) => new(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3));

    private void Counted() => Interlocked.Increment(ref _queryCount);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }
}
