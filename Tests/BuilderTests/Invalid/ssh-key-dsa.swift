import ImageDSL

// A key from 2009, still in the wiki.
let system = OperatingSystem {
    HostName("h1")
    User("bob", uid: 2002, sshKeys: ["ssh-dss AAAAB3NzaC1kc3MAAACBAPUF+SakSHDXlMuSQX8NUGWZtdcfEGAGgdbNYw/bQesOouB0zj/LgIrVrEOMeGyOG+LoAcyEtJbPZO8H0qkMLkOemD/3GRn53bmvpGo0rQPgJJqoyqLOZ6c6+o+8DKLLm3nqMqyeZ4cUa4r6ZanmC3YCtYhShZsHNt06SoX7cL2XAAAAFQCjZzuDY4N7iKidtJ7MzXtxL6XuFwAAAIBfeG7xvOJKeoqYVDZRbMYsmNgj61xayakKO7efPqT486klVJXuPPKKOJYLz7xQ+FHTvMxh3MRIXXU+cw5AbJ2m8KawU41S2uSsxA0UnCa7+epX3s96mOSHxS0H+6/Lem0/ne+5BlDz8GccVQ1pc0u20HafYGug0zqs+LjXVjLK9gAAAIAiqt1lZx0f/1cHnnfhYrY5sY96lC11yYgyqhudUOgtSHLsHrXONqi2dYlNBdm7A0+cvUAqm3geZFvRv88kxf48SKSUls+akhdzueYArsRoZBK0vGqvyb/+6e5C7nHTtOuKD0FMoT6PCWkA1THsbjznDACFykeiG8bvlk8DJBu1QQ== bob@old-laptop"])  // error: SSH key of user 'bob' is not usable: DSA keys are refused
}
