# The book's ch08/awesome_net.py holds only a comment inviting the reader to build their own net; so does this.
