using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CacheGen.SampleApi;

/// <summary>
/// The body of <c>GET /posts/</c> in the Django original's shape: one object keyed <c>post_{id}</c>, in id order,
/// <c>{"post_1": {"id": 1, "title": ..., "content": ...}, ...}</c>.
/// </summary>
[JsonConverter(typeof(DjangoPostListConverter))]
public sealed record DjangoPostList(IReadOnlyList<Post> Posts);

/// <summary>Writes and reads <see cref="DjangoPostList"/> without an intermediate dictionary of every post.</summary>
internal sealed class DjangoPostListConverter : JsonConverter<DjangoPostList>
{
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText TitleName = JsonEncodedText.Encode("title");
    private static readonly JsonEncodedText ContentName = JsonEncodedText.Encode("content");

    public override void Write(Utf8JsonWriter writer, DjangoPostList value, JsonSerializerOptions options)
    {
        Span<byte> name = stackalloc byte[16];
        "post_"u8.CopyTo(name);
        writer.WriteStartObject();
        foreach (Post post in value.Posts)
        {
            Utf8Formatter.TryFormat(post.Id, name[5..], out int digits);
            writer.WritePropertyName(name[..(5 + digits)]);
            writer.WriteStartObject();
            writer.WriteNumber(IdName, post.Id);
            writer.WriteString(TitleName, post.Title);
            writer.WriteString(ContentName, post.Content);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    public override DjangoPostList Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("Expected an object of posts.");
        var posts = new List<Post>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            reader.Read();
            int id = 0;
            string? title = null, content = null;
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new JsonException("Expected a post object.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string property = reader.GetString()!;
                reader.Read();
                switch (property)
                {
                    case "id": id = reader.GetInt32(); break;
                    case "title": title = reader.GetString(); break;
                    case "content": content = reader.GetString(); break;
                    default: reader.Skip(); break;
                }
            }
            posts.Add(new Post(id, title ?? throw new JsonException("A post has no title."), content ?? throw new JsonException("A post has no content.")));
        }
        return new DjangoPostList(posts);
    }
}
