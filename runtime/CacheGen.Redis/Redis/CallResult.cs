namespace CacheGen.Redis;

/// <summary>What a call through the policy returned.</summary>
internal readonly record struct CallResult<T>(CallStatus Status, T Value, Exception? Failure = null)
{
    public bool Answered => Status == CallStatus.Answered;
}
